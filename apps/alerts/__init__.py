"""Public alerts: CAP 1.2 out and in, drills, the delivery report for the crisis cell."""
