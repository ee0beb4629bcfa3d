"""A machine's host name as the workstation's enrolment name (`dispatch.client.keys`)."""

from __future__ import annotations

import pytest

from dispatch.client.keys import valid_name, workstation_name


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("hall-2", "hall-2"),
        ("hall-2.county.gov.cn", "hall-2-county-gov-cn"),
        ("指挥大厅1号席", "指挥大厅1号席"),
        ("-.x.-", "x"),
        ("../../etc", "etc"),
        ("", "demo-console"),
        ("...", "demo-console"),
        ("h" * 80, "h" * 64),
    ],
)
def test_host_names_become_valid_enrolment_names(host: str, name: str) -> None:
    got = workstation_name(host, fallback="demo-console")
    assert got == name and valid_name(got)
