"""``POST /api/v1/me/simulate/``: "with these settings you would have received these N pushes
last week" (``apps.notifications.simulation``); nothing is stored."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.models import Urgency
from apps.notifications.api.serializers import ReceivedItemSerializer
from apps.notifications.simulation import (
    DIGEST,
    MAX_NOTIFICATIONS,
    PREFERENCES,
    PUSH,
    REPLAYED_KINDS,
    Simulation,
    device_settings,
    device_simulate,
)
from apps.residents.api.schema import error_responses
from apps.residents.api.serializers import (
    DevicePreferencesInputSerializer,
    InterestsSerializer,
    PlaceWriteSerializer,
)
from apps.residents.api.views.base import ResidentAPIView, no_store
from apps.residents.models import PLACES_MAX


class SimulateInputSerializer(DevicePreferencesInputSerializer):
    """Candidate settings, each optional (missing: the device's own), validated as by ``/me/``,
    ``/me/places/`` and ``/me/interests/``."""

    # Preferences of ``PATCH /me/`` that do not change which pushes arrive.
    language = None  # type: ignore[assignment]
    personalization_consent = None  # type: ignore[assignment]
    places = PlaceWriteSerializer(
        many=True,
        required=False,
        max_length=PLACES_MAX,  # type: ignore[call-arg]  # DRF 3.18 has it; not the stubs
        help_text=f"Candidate places (at most {PLACES_MAX}), instead of the saved ones.",
    )
    interests = InterestsSerializer(
        required=False,
        help_text="Candidate follows by slug (categories, areas, organizations), instead of "
        "the device's.",
    )


class SimulatedPushSerializer(serializers.Serializer):
    notification_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=[k.value for k in REPLAYED_KINDS])
    item = ReceivedItemSerializer()
    title = serializers.CharField(help_text="The push's title in the device's language.")
    urgency = serializers.ChoiceField(choices=Urgency.codes())
    published_at = serializers.DateTimeField(help_text="When the notification was created.")
    sent_at = serializers.DateTimeField(
        help_text="When it would have been sent: as a push, or in the digest sent then."
    )
    delivered_as = serializers.ChoiceField(choices=[PUSH, DIGEST])
    digest_reason = serializers.ChoiceField(
        choices=["", "capped", "budget"],
        help_text="Why it went into a digest: `capped` (daily cap or daily important limit) "
        "or `budget` (weekly information budget); empty for a push.",
    )


class SimulatedDigestSerializer(serializers.Serializer):
    sent_at = serializers.DateTimeField()
    items = serializers.IntegerField(help_text="Pushes folded into it.")


class SimulationSerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="Start of the replayed week.")
    until = serializers.DateTimeField(help_text="The request's time.")
    considered = serializers.IntegerField(
        help_text=f"Notifications of the week replayed (at most {MAX_NOTIFICATIONS}, the most "
        "recent)."
    )
    truncated = serializers.BooleanField(help_text="More notifications than were replayed.")
    pushes = serializers.IntegerField(
        help_text="Pushes received by `until`: those about an item sent as a push, plus the "
        "digests."
    )
    items = SimulatedPushSerializer(many=True)
    digests = SimulatedDigestSerializer(many=True)


def simulation_json(simulation: Simulation, *, language: str) -> dict[str, Any]:
    return {
        "since": simulation.since,
        "until": simulation.until,
        "considered": simulation.considered,
        "truncated": simulation.truncated,
        "pushes": simulation.pushes,
        "items": [
            {
                "notification_id": o.replayed.notification_id,
                "kind": o.replayed.kind,
                "item": {"type": o.replayed.item_type, "id": o.replayed.item_id},
                "title": o.replayed.title.get(language) or o.replayed.title.get("fr", ""),
                "urgency": Urgency(o.replayed.urgency).code,
                "published_at": o.replayed.created_at,
                "sent_at": o.sent_at,
                "delivered_as": o.delivered_as,
                "digest_reason": o.reason,
            }
            for o in simulation.outcomes
        ],
        "digests": [{"sent_at": at, "items": n} for at, n in simulation.digests],
    }


class SimulateView(ResidentAPIView):
    @extend_schema(
        operation_id="me_simulate",
        summary="Simulate my pushes of last week with other settings",
        description="Replays the notifications of the last 7 days (publications, updates and "
        f"reminders; not tests nor drills; at most {MAX_NOTIFICATIONS}) against candidate "
        "settings — places, follows, minimum urgency, budget, quiet hours, digest day — each "
        "optional (missing: the device's own), validated as by `PATCH /me/`, "
        "`POST /me/places/` and `PUT /me/interests/`. Answers which pushes would have reached "
        "this device and how (a push, or folded into a digest), with the audience rules and "
        "the notification policy the real pipeline applies. Nothing is stored.",
        request=SimulateInputSerializer,
        responses={200: SimulationSerializer, **error_responses(400, 401, 415, 429)},
        tags=["residents"],
    )
    def post(self, request: Request) -> Response:
        serializer = SimulateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        device = self.device
        preferences = {k: v for k, v in data.items() if k in PREFERENCES}
        start = preferences.get("quiet_hours_start", device.quiet_hours_start)
        end = preferences.get("quiet_hours_end", device.quiet_hours_end)
        if (start is None) != (end is None) or (start is not None and start == end):
            raise serializers.ValidationError(
                {
                    "quiet_hours_start": [
                        _("Indiquez le début et la fin des heures calmes, ou aucun des deux.")
                    ]
                }
            )
        interests = data.get("interests")
        settings = device_settings(
            device,
            preferences=preferences,
            places=data.get("places"),
            category_ids=None if interests is None else [c.pk for c in interests["categories"]],
            area_ids=None if interests is None else [a.pk for a in interests["areas"]],
        )
        simulation = device_simulate(device, settings)
        body = SimulationSerializer(simulation_json(simulation, language=device.language)).data
        return no_store(Response(body))
