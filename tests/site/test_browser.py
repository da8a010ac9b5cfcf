"""The public pages in a real browser (Debian's Chromium through Playwright), with no internet.

Link previews as a crawler reads them (title, description, image that really loads), and
the accessibility basics checked by axe-core (npm, ``make site-test-assets``) run inside
Chromium on every page type, a kind 410 page and the widgets, plus the keyboard path.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

from apps.core.models import Urgency
from apps.core.pages import item_page_url
from apps.core.services import content_archive
from tests.api_support import published_event, published_news, published_works
from tests.factories import VenueFactory
from tests.site.schemaorg import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = ROOT / "testing" / "site" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
#: axe-core rule sets: WCAG 2.1 A and AA (what RGAA 4 follows), plus axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `make site-test-assets` first.")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()


@pytest.fixture
def page(chromium, live_server, settings):
    settings.SITE_URL = live_server.url
    settings.SITE_NAME = "Ville de Lyonnay"
    # The pages forbid every script (CSP); axe-core is injected by the test, not by the page.
    context = chromium.new_context(locale="fr-FR", base_url=live_server.url, bypass_csp=True)
    context.set_default_timeout(15_000)
    host = urlparse(live_server.url).hostname
    blocked: list[str] = []

    def route(request_route) -> None:
        if urlparse(request_route.request.url).hostname == host:
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    browser_page = context.new_page()
    yield browser_page
    context.close()
    assert blocked == []  # no third-party asset of any kind


def meta(page, selector: str) -> str | None:
    element = page.locator(f"meta[{selector}]")
    return element.get_attribute("content") if element.count() else None


def image_size(page, url: str) -> list[int] | None:
    return page.evaluate(
        """url => new Promise(done => {
            const img = new Image();
            img.onload = () => done([img.naturalWidth, img.naturalHeight]);
            img.onerror = () => done(null);
            img.src = url;
        })""",
        url,
    )


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
        for v in result["violations"]
    ]


def test_link_previews_have_title_description_and_a_loading_image(page, centre):
    works = published_works(
        title_fr="Réfection rue Garibaldi", summary_fr="Circulation alternée jusqu'au 20."
    )
    page.goto(item_page_url(works))
    assert page.title() == "Réfection rue Garibaldi · Ville de Lyonnay"
    assert meta(page, 'property="og:title"') == "Réfection rue Garibaldi"
    assert meta(page, 'property="og:description"') == "Circulation alternée jusqu'au 20."
    assert meta(page, 'name="twitter:card"') == "summary_large_image"
    image = meta(page, 'property="og:image"')
    assert image and image.startswith(page.url.split("/works/")[0])
    assert image_size(page, image) == [1200, 630]
    assert meta(page, 'property="og:image:alt"')
    assert page.locator("svg.map").is_visible()


@pytest.mark.parametrize("kind", ["news", "works", "events", "gone"])
def test_pages_pass_axe_core(page, centre, kind):
    if kind == "news":
        item = published_news(title_fr="Piscine fermée", summary_fr="Vidange", body_fr="Texte.")
    elif kind == "works":
        item = published_works(title_fr="Chantier quai Gailleton", detour_text="Par le cours.")
    elif kind == "events":
        venue = VenueFactory(name="Salle Rameau", city="Lyonnay")
        item = published_event(title_fr="Récital", venue=venue, is_free=False, age_min=6)
    else:
        item = published_news(title_fr="Ancienne information")
        content_archive(item=item)
    response = page.goto(item_page_url(item))
    assert response.status == (410 if kind == "gone" else 200)
    assert page.locator("html").get_attribute("lang") == "fr"
    assert axe_violations(page) == []


@pytest.mark.parametrize(
    "path", ["/", "/widgets/", "/widgets/agenda/", "/widgets/works/", "/widgets/alerts/"]
)
def test_home_and_widgets_pass_axe_core(page, centre, path):
    published_event(title_fr="Concert")
    published_works(title_fr="Chantier")
    published_news(title_fr="Crue de la Saône", urgency=Urgency.ALERT)
    page.goto(path)
    assert axe_violations(page) == []


def test_keyboard_reaches_the_content_first_then_the_language_switcher(page):
    news = published_news(title_fr="Piscine fermée", title_en="Pool closed")
    page.goto(item_page_url(news))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    page.goto(item_page_url(news))
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "English"
    page.keyboard.press("Enter")
    page.wait_for_url("**/en/news/**")
    assert page.locator("h1").inner_text() == "Pool closed"


#: Screenshots of the ranking notice, for a human to look at (not compared).
NOTICE_ARTIFACTS = ROOT / "test-artifacts" / "ranking-notice"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_ranking_notice_page_passes_axe_core(page, settings, tmp_path, language):
    from apps.recommend.offline.fitting import fit
    from apps.recommend.offline.simulation import SimConfig, generate_city, simulate_log
    from apps.recommend.store import ModelStore

    settings.RECOMMENDER_MODEL_DIR = str(tmp_path / "models")
    city = generate_city(SimConfig(residents=200, days=8, seed=5))  # over the trainer minimum
    trained = fit(simulate_log(city), city.catalog, city.profiles, seed=5)
    ModelStore(tmp_path / "models").save(trained)

    page.goto(f"/transparence/classement/?lang={language}")

    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("tbody tr").count() >= 28  # one row per feature, then the evaluation
    NOTICE_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=NOTICE_ARTIFACTS / f"{language}.png", full_page=True)
    assert axe_violations(page) == []
