"""Staff admin of the push pipeline: read-only notification statistics, the test push, the
reach preview on every content form, and warnings about late or stuck sends.

Staff see aggregates only: no screen lists deliveries, devices or tokens, and every count goes
through ``apps.core.disclosure`` as on the residents' statistics page.
"""

from apps.notifications.admin import notifications, reach, warnings  # noqa: F401 - registers
