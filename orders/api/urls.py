from rest_framework.routers import SimpleRouter

from .views import CustomerViewSet, OrderViewSet

router = SimpleRouter()
router.register("orders", OrderViewSet, basename="api-orders")
router.register("customers", CustomerViewSet, basename="api-customers")

urlpatterns = router.urls
