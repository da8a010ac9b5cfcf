"""Push notifications: targeting, fan-out and the FCM gateway (DESIGN §6)."""
