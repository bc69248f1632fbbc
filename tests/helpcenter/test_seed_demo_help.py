"""seed_demo_help: published articles in every language, through the services; a second run
adds nothing; refused under production settings."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from helpcenter.enums import ArticleStatus
from helpcenter.models import Article

pytestmark = pytest.mark.django_db


def test_refused_under_production_settings(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refused under production settings"):
        call_command("seed_demo_help")


def test_articles_in_every_language_published_once(settings, senior, client):
    settings.DEBUG = True
    call_command("seed_demo_help")
    count = Article.objects.count()
    call_command("seed_demo_help")
    assert Article.objects.count() == count
    assert set(Article.objects.values_list("status", flat=True)) == {ArticleStatus.PUBLISHED}
    for code, _name in django_settings.LANGUAGES:
        assert Article.objects.filter(language=code, slug="where-is-my-order").exists(), code
    page = client.get("/help/ta/a/where-is-my-order/")
    assert page.status_code == 200 and "என் ஆர்டர் எங்கே?" in page.content.decode()
    assert "<script" not in Article.objects.get(slug="how-refunds-work", language="hi").body_html
