"""Staff pages of the help center: the article list, writing, preview, publishing, and
"Turn into FAQ" from a resolved inquiry. Login and a staff role; the services check the rest."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fulfillment.actors import as_actor
from fulfillment.errors import DomainError
from fulfillment.pagination import keyset_page
from fulfillment.permissions import can
from fulfillment.views import staff_required
from inquiries.enums import DONE
from inquiries.models import Inquiry
from orders.views import _status_for  # one mapping of refusals to HTTP codes

from . import forms, markdown, selectors, services
from . import permissions as perms
from .enums import ArticleStatus
from .models import Article


@staff_required
@require_GET
def article_list(request):
    status = request.GET.get("status", "")
    page = keyset_page(
        selectors.staff_articles(status=status),
        cursor=request.GET.get("cursor"),
        size=settings.FD_PAGE_SIZE,
        key="updated_at",
    )
    return render(
        request,
        "helpcenter/staff_list.html",
        {
            "page": page,
            "status": status,
            "statuses": ArticleStatus.choices,
            "may_publish": can(as_actor(request.user), perms.PUBLISH),
        },
    )


def _write(request, *, article: Article | None, initial: dict, source: Inquiry | None = None):
    form = forms.ArticleForm(request.POST or None, initial=initial)
    status = 200
    preview = None
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            if request.POST.get("preview"):
                preview = markdown.render(data["body"])
            else:
                try:
                    if article is None:
                        article = services.article_create(actor=request.user, source_inquiry=source, **data)
                        messages.success(request, _("Draft saved."))
                    else:
                        article = services.article_update(actor=request.user, article=article, **data)
                        messages.success(request, _("Article saved."))
                except DomainError as error:
                    forms.apply_domain_error(form, error)
                    status = _status_for(error)
                else:
                    return redirect("helpcenter:staff_edit", pk=article.pk)
        else:
            status = 400
    return render(
        request,
        "helpcenter/staff_edit.html",
        {
            "form": form,
            "article": article,
            "source": source,
            "preview": preview,
            "may_publish": can(as_actor(request.user), perms.PUBLISH),
        },
        status=status,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def article_new(request):
    return _write(request, article=None, initial={"language": request.LANGUAGE_CODE})


@staff_required
@require_http_methods(["GET", "POST"])
def article_from_inquiry(request, inquiry_id: int):
    """ "Turn into FAQ": a draft pre-filled from a resolved inquiry; saved only when posted."""
    inquiry = get_object_or_404(Inquiry.objects.select_related("customer"), pk=inquiry_id)
    if inquiry.status not in DONE:
        messages.error(request, _("Only a resolved inquiry can become an article."))
        return redirect("inquiries:detail", pk=inquiry.pk)
    return _write(request, article=None, initial=selectors.draft_from_inquiry(inquiry), source=inquiry)


@staff_required
@require_http_methods(["GET", "POST"])
def article_edit(request, pk: int):
    article = get_object_or_404(Article.objects.select_related("source_inquiry"), pk=pk)
    initial = {name: getattr(article, name) for name in forms.ArticleForm.base_fields}
    return _write(request, article=article, initial=initial, source=article.source_inquiry)


@staff_required
@require_POST
def article_status(request, pk: int):
    article = get_object_or_404(Article, pk=pk)
    publish = request.POST.get("action") == "publish"
    try:
        if publish:
            services.article_publish(actor=request.user, article=article)
            messages.success(request, _("Published."))
        else:
            services.article_unpublish(actor=request.user, article=article)
            messages.success(request, _("Taken down: the article is a draft again."))
    except DomainError as error:
        if _status_for(error) == 403:
            raise PermissionDenied(str(error.message)) from None
        messages.error(request, error.message)
    return redirect("helpcenter:staff_edit", pk=article.pk)


@staff_required
@require_GET
def reports(request):
    """FAQ candidates, and articles whose readers still write in (senior reps and above)."""
    if not can(as_actor(request.user), perms.REPORTS):
        raise PermissionDenied(_("The help-center reports are for senior reps and above."))
    return render(
        request,
        "helpcenter/reports.html",
        {
            "days": selectors.REPORT_DAYS,
            "candidates": selectors.faq_candidates(),
            "still_asked": selectors.articles_readers_still_ask(),
        },
    )
