from orders.enums import OrderStatus


def test_order_factory_makes_a_placed_order_with_its_timeline(order):
    assert order.status == OrderStatus.PLACED
    assert order.total == 60.50
    assert order.number.startswith("FD")
    assert [e.type for e in order.events.all()] == ["created"]
