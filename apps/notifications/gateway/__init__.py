"""The push gateway: the neutral push API, its FCM and log backends, and what they run on."""
