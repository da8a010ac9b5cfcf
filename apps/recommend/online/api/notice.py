"""``GET /api/v1/transparency/ranking/``: how the feed ranks, generated from the code's features
and the served model (``apps.recommend.notice``); also a web page, ``/transparence/classement/``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.params import KnownQueryParams
from apps.core.api.throttles import PublicReadThrottle
from apps.recommend.selectors import ranking_notice
from apps.residents.api.schema import error_responses


class RankingNoticeTextSerializer(serializers.Serializer):
    fr = serializers.CharField()
    en = serializers.CharField()


class RankingNoticeFeatureSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The feature's name in the code (`FEATURE_NAMES`).")
    description = RankingNoticeTextSerializer()
    stage1_weight = serializers.FloatField(help_text="Its hand-set weight in stage 1.")
    model_weight = serializers.FloatField(
        allow_null=True,
        help_text="The served model's coefficient (per standardised feature) or importance "
        "(share of the split gains); null while stage 1 serves.",
    )


class RankingNoticeEvaluationSerializer(serializers.Serializer):
    ranker = serializers.CharField(
        help_text="`stage1`, a candidate model (`logistic_regression`, `gradient_boosting`) "
        "or `model` (the one kept)."
    )
    auc = serializers.FloatField(allow_null=True)
    ndcg_at_10 = serializers.FloatField(allow_null=True)
    rows = serializers.FloatField(allow_null=True, help_text="Held-out impressions.")
    positives = serializers.FloatField(allow_null=True)


class RankingNoticeModelSerializer(serializers.Serializer):
    version = serializers.CharField()
    kind = serializers.CharField(help_text="`logistic_regression` or `gradient_boosting`.")
    trained_at = serializers.DateTimeField(allow_null=True)
    weights_kind = serializers.ChoiceField(choices=["coefficients", "importances"])
    evaluation = RankingNoticeEvaluationSerializer(
        many=True, help_text="The held-out validation stored with the model."
    )
    data = serializers.DictField(  # type: ignore[assignment]  # the field is named "data"
        child=serializers.FloatField(), help_text="Sizes of the training data."
    )


class RankingNoticeRulesSerializer(serializers.Serializer):
    max_per_category = serializers.IntegerField()
    window = serializers.IntegerField()
    diversify_top = serializers.IntegerField()
    duplicate_cosine = serializers.FloatField()
    pin_alerts = serializers.BooleanField()
    alert_point_m = serializers.FloatField()
    city_wide_alert_pin_h = serializers.FloatField(
        help_text="hours after publication during which a city-wide alert is pinned first"
    )
    route_scale_m = serializers.FloatField()
    popularity_reference = serializers.FloatField()


class RankingNoticeSerializer(serializers.Serializer):
    """The schema of ``RankingNotice.as_json``."""

    ranker = serializers.ChoiceField(choices=["stage1", "stage2"])
    fallback_reason = serializers.CharField(
        allow_blank=True, help_text="Why stage 1 serves although a model exists (else empty)."
    )
    features = RankingNoticeFeatureSerializer(many=True)
    model = RankingNoticeModelSerializer(allow_null=True)
    rules = RankingNoticeRulesSerializer()
    online = serializers.DictField(
        allow_null=True, help_text="The online measure of the served model, when one exists."
    )
    online_note = RankingNoticeTextSerializer(
        allow_null=True, help_text="“No online measure yet” when `online` is null."
    )


class RankingNoticeView(KnownQueryParams, APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicReadThrottle]
    query_params_allowed = frozenset()

    @extend_schema(
        operation_id="transparency_ranking",
        summary="How the feed ranks (public notice)",
        description="Generated at each request from what runs: the features the code computes "
        "(with their description in French and English), the stage 1 hand weights, the ranker "
        "served now (stage 1, or a trained model with its coefficients or importances, its "
        "training date and its stored evaluation), the ranking rules (diversity, pinned alerts, "
        "hidden duplicates) and the online result when one exists. Also as a web page "
        "(`/transparence/classement/`, `?lang=en`).",
        responses={200: RankingNoticeSerializer, **error_responses(400, 429)},
        tags=["transparency"],
    )
    def get(self, request: Request) -> Response:
        response = Response(ranking_notice().as_json())
        response["Cache-Control"] = "public, max-age=300"
        return response
