"""The public help center: no login, by design. Every page is in the language of its URL
(/help/<language>/…); the switcher links to the same page in the others. Endpoints that take
input are rate-limited per client address (``ratelimit``) and POSTs carry the CSRF token."""

from __future__ import annotations

import functools

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fulfillment import ratelimit
from fulfillment.actors import Actor
from fulfillment.errors import DomainError, NotFound
from inquiries import web as web_form
from inquiries.enums import Category

from . import forms, selectors, services

#: Votes and suggestions an address may send per window (settings override them).
VOTE_RATE = getattr(settings, "FD_HELP_VOTE_RATE", 30)
SUGGEST_RATE = getattr(settings, "FD_HELP_SUGGEST_RATE", 120)
WINDOW_SECONDS = 3600
SESSION_VOTES = "helpcenter_votes"


def public_page(view):
    """Explicitly public (no login); rendered in the URL's language."""

    @functools.wraps(view)
    def wrapper(request, lang: str, *args, **kwargs):
        with translation.override(lang):
            request.LANGUAGE_CODE = lang
            response = view(request, lang, *args, **kwargs)
        response.headers["Content-Language"] = lang  # LocaleMiddleware keeps one already set
        return response

    wrapper.public = True
    return wrapper


def _switcher(request, lang: str, view_name: str, **kwargs) -> list[dict]:
    """The same page in every language (the query string kept: a search stays a search)."""
    query = request.META.get("QUERY_STRING", "")
    links = []
    for code, _name in settings.LANGUAGES:
        url = reverse(view_name, kwargs={"lang": code, **kwargs})
        info = translation.get_language_info(code)
        links.append(
            {
                "code": code,
                "name": info["name_local"],
                "url": url + (f"?{query}" if query else ""),
                "current": code == lang,
            }
        )
    return links


def _categories(lang: str) -> list[tuple[str, str, int]]:
    counts = selectors.category_counts(language=lang)
    return [(code, label, counts[code]) for code, label in Category.choices if counts.get(code)]


@require_GET
def root(request):
    """/help/ → the help center in the visitor's language (LocaleMiddleware chose it)."""
    lang = request.LANGUAGE_CODE if request.LANGUAGE_CODE in dict(settings.LANGUAGES) else "en"
    return redirect("helpcenter:home", lang=lang)


@require_GET
@public_page
def home(request, lang: str):
    return render(
        request,
        "helpcenter/home.html",
        {"lang": lang, "categories": _categories(lang), "languages": _switcher(request, lang, "helpcenter:home")},
    )


@require_GET
@public_page
def category(request, lang: str, code: str):
    if code not in Category.values:
        raise Http404(_("No such category."))
    return render(
        request,
        "helpcenter/category.html",
        {
            "lang": lang,
            "category_label": Category(code).label,
            "articles": selectors.article_list(language=lang, category=code),
            "languages": _switcher(request, lang, "helpcenter:category", code=code),
        },
    )


@require_GET
@public_page
def search(request, lang: str):
    q = request.GET.get("q", "").strip()[:200]
    results = selectors.search(q=q, language=lang) if q else []
    return render(
        request,
        "helpcenter/search.html",
        {"lang": lang, "q": q, "results": results, "languages": _switcher(request, lang, "helpcenter:search")},
    )


@require_GET
@public_page
def suggest(request, lang: str):
    """htmx: at most five published titles matching what the customer is typing."""
    if not ratelimit.allow(request, scope="suggest", limit=SUGGEST_RATE, window=WINDOW_SECONDS):
        return render(request, "helpcenter/_suggestions.html", {"lang": lang, "limited": True}, status=429)
    q = (request.GET.get("q") or request.GET.get("subject") or "").strip()[:200]
    articles = selectors.search(q=q, language=lang, limit=selectors.SUGGEST_LIMIT, prefix=True) if len(q) >= 3 else []
    return render(request, "helpcenter/_suggestions.html", {"lang": lang, "articles": articles})


def _session_key(request) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


def _voted(request) -> list[int]:
    return request.session.get(SESSION_VOTES, [])


@require_GET
@public_page
def article(request, lang: str, slug: str):
    found = selectors.article_for_reader(slug=slug, language=lang)
    if found is None:
        raise Http404(_("No such article."))
    services.article_viewed(article=found, session_key=_session_key(request))
    return render(
        request,
        "helpcenter/article.html",
        {
            "lang": lang,
            "article": found,
            "category_label": Category(found.category).label,
            "voted": found.pk in _voted(request),
            "languages": _switcher(request, lang, "helpcenter:article", slug=slug),
        },
    )


@require_POST
@public_page
def vote(request, lang: str, slug: str):
    found = selectors.article_for_reader(slug=slug, language=lang)
    if found is None:
        raise Http404(_("No such article."))
    context = {"lang": lang, "article": found, "voted": True}
    if not ratelimit.allow(request, scope="vote", limit=VOTE_RATE, window=WINDOW_SECONDS):
        context.update(voted=False, error=_("Too many votes from your address. Please try again later."))
        return render(request, "helpcenter/_vote.html", context, status=429)
    form = forms.VoteForm(request.POST)
    if not form.is_valid():
        context.update(voted=False, error=_("Choose yes or no."))
        return render(request, "helpcenter/_vote.html", context, status=400)
    voted = _voted(request)
    if found.pk not in voted:
        try:
            services.article_vote(
                actor=Actor.system("help center"), article=found, helpful=form.cleaned_data["helpful"]
            )
        except NotFound:
            raise Http404(_("No such article.")) from None
        request.session[SESSION_VOTES] = [*voted, found.pk][-500:]
    if request.htmx:
        return render(request, "helpcenter/_vote.html", context)
    return redirect("helpcenter:article", lang=lang, slug=found.slug)


@require_http_methods(["GET", "POST"])
@public_page
def contact(request, lang: str):
    """The web inquiry form: the contact page's intake (``inquiries.web.submit``, its rate limit
    and honeypot), with articles suggested as the customer types the subject."""
    form = forms.HelpInquiryForm(request.POST or None, suggest_url=reverse("helpcenter:suggest", kwargs={"lang": lang}))
    context = {"lang": lang, "form": form, "languages": _switcher(request, lang, "helpcenter:contact")}
    status = 200
    if request.method == "POST":
        if not web_form._allowed(request):
            form.add_error(None, _("Too many messages from your address. Please try again in an hour."))
            return render(request, "helpcenter/contact.html", context, status=429)
        if form.is_valid():
            if form.cleaned_data["website"]:
                # A bot filled the honeypot: thank it, keep nothing.
                return render(request, "helpcenter/contact_done.html", {**context, "reference": None})
            try:
                with transaction.atomic():
                    inquiry = web_form.submit(form.cleaned_data)
                    services.web_inquiry_record(inquiry=inquiry, session_key=_session_key(request))
            except DomainError as error:
                forms.apply_domain_error(form, error)
                status = 400
            else:
                return render(request, "helpcenter/contact_done.html", {**context, "reference": inquiry.reference})
        else:
            status = 400
    return render(request, "helpcenter/contact.html", context, status=status)
