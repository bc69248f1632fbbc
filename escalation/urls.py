from django.urls import path

from . import views

app_name = "escalation"

urlpatterns = [
    path("escalation/review/", views.review, name="review"),
    path("escalation/review/approvals/", views.approvals, name="approvals"),
    path("escalation/coaching/", views.coaching, name="coaching"),
    path("escalation/inquiries/<int:pk>/escalate/", views.escalate, name="escalate"),
    path("escalation/inquiries/<int:pk>/take-over/", views.take_over, name="take_over"),
    path("escalation/inquiries/<int:pk>/return/", views.return_with_coaching, name="return"),
    path("escalation/inquiries/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("escalation/inquiries/<int:pk>/de-escalate/", views.de_escalate, name="de_escalate"),
    path("escalation/approvals/<int:remedy_id>/approve/", views.approve, name="approve"),
    path("escalation/approvals/<int:remedy_id>/deny/", views.deny, name="deny"),
]
