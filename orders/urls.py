from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("orders/", views.order_list, name="list"),
    path("orders/<str:number>/", views.order_detail, name="detail"),
    path("orders/<str:number>/actions/<str:action>/", views.order_action, name="action"),
    path("handoffs/<int:pk>/state/", views.handoff_state, name="handoff_state"),
    path("customers/", views.customer_list, name="customers"),
    path("customers/new/", views.customer_edit, name="customer_new"),
    path("customers/<int:pk>/", views.customer_detail, name="customer"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("customers/<int:customer_id>/orders/new/", views.order_create, name="order_new"),
    path("search/", views.search, name="search"),
]
