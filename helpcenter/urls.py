from django.conf import settings
from django.urls import path, register_converter

from . import public, views

app_name = "helpcenter"


class LanguageConverter:
    """Only the site's languages, so /help/staff/… never reads as a language."""

    regex = "|".join(code for code, _name in settings.LANGUAGES)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(LanguageConverter, "helplang")

urlpatterns = [
    path("", public.root, name="root"),
    path("staff/articles/", views.article_list, name="staff_list"),
    path("staff/reports/", views.reports, name="staff_reports"),
    path("staff/articles/new/", views.article_new, name="staff_new"),
    path("staff/articles/<int:pk>/", views.article_edit, name="staff_edit"),
    path("staff/articles/<int:pk>/status/", views.article_status, name="staff_status"),
    path("staff/from-inquiry/<int:inquiry_id>/", views.article_from_inquiry, name="staff_from_inquiry"),
    path("<helplang:lang>/", public.home, name="home"),
    path("<helplang:lang>/search/", public.search, name="search"),
    path("<helplang:lang>/suggest/", public.suggest, name="suggest"),
    path("<helplang:lang>/contact/", public.contact, name="contact"),
    path("<helplang:lang>/category/<str:code>/", public.category, name="category"),
    path("<helplang:lang>/a/<str:slug>/", public.article, name="article"),
    path("<helplang:lang>/a/<str:slug>/vote/", public.vote, name="vote"),
]
