"""Push notifications: targeting, fan-out and the FCM gateway (architecture.md §6)."""
