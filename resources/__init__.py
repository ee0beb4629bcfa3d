"""Static resources: demo site, theme, translations, browser pages."""
