"""The camera health view: online and quality rates per township and village, the
faulty cameras with their last good and current pictures, and a camera's history."""
