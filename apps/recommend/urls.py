"""Recommender routes under /api/v1/."""

from django.urls import path

from apps.recommend.online.api.feed import FeedView
from apps.recommend.online.api.notice import RankingNoticeView
from apps.recommend.online.api.views import InteractionsView

urlpatterns = [
    path("interactions/", InteractionsView.as_view(), name="interactions"),
    path("feed/", FeedView.as_view(), name="feed"),
    path("transparency/ranking/", RankingNoticeView.as_view(), name="transparency-ranking"),
]
