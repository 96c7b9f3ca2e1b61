-- original_insert: the original project's load, one parameterized insert per order dict
insert into bench.original_orders (order_id, customer_id, item_id, item_name, delivered_on)
values (%(order_id)s, %(customer_id)s, %(item_id)s, %(item_name)s, %(delivered_on)s)
