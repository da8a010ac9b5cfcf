"""API conventions shared by every endpoint: errors, body limits, pagination, throttles."""
