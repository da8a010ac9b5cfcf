"""The delivery report of an alert, for the crisis cell's debrief: figures, CSV, PDF, chart."""
