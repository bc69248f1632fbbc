from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import ops_views, views
from .api.errors import not_found as api_not_found

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("preferences/language/", views.set_language, name="set_language"),
    path("preferences/weekly-report/", views.set_weekly_report, name="set_weekly_report"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/count/", views.notification_count, name="notification_count"),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("notifications/<int:notification_id>/read/", views.notification_read, name="notification_read"),
    path("operations/", ops_views.operations, name="operations"),
    path("operations/jobs/<int:job_id>/retry/", ops_views.operations_retry, name="operations_retry"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("orders.api.urls")),
    path("api/v1/", include("inquiries.api.urls")),
    path("api/v1/", include("escalation.api.urls")),
    path("api/v1/", include("fulfillment.api.webhooks")),
    path("api/v1/", include("reports.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", api_not_found),
    path("inbound/", include("inquiries.mail.urls")),
    path("c/", include("portal.urls")),
    path("help/", include("helpcenter.urls")),
    path("reports/", include("reports.urls")),
    path("", include("orders.urls")),
    path("", include("inquiries.urls")),
    path("", include("escalation.urls")),
]
