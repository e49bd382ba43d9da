"""Running Sijil unattended: schedule and sensor logic, retries, alerts and the audit log."""
