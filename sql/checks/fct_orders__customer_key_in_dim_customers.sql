-- fct_orders: every customer_key of the window's orders exists in dim_customers.
-- severity: error
select
    fct_orders.order_id,
    fct_orders.customer_key
from analytics.fct_orders
left join analytics.dim_customers
    on fct_orders.customer_key = dim_customers.customer_key
where
    fct_orders.window_start = %(window_start)s
    and dim_customers.customer_key is null
