-- A fresh table for one window of store.orders, with store.orders' columns (migration 0008). Its
-- constant default fills window_start without a per-row lookup, and its check constraint proves
-- the partition bound, so the attach that follows the COPY skips the validating scan.
create table {fresh} (
    order_id uuid not null,
    customer_id integer not null,
    item_id uuid not null,
    item_name text not null,
    delivered_on timestamp not null,
    window_start timestamp not null default %(window_start)s check (window_start = %(window_start)s)
)
