-- Published timestamps carry their time zone, so analysts' tools show them right in any session
-- time zone. Loaded tables and window_start stay naive UTC: the window grid is UTC by definition.
alter table staging.stg_customers
alter column created_at type timestamptz using created_at at time zone 'UTC',
alter column updated_at type timestamptz using updated_at at time zone 'UTC';

alter table staging.stg_orders
alter column delivered_at type timestamptz using delivered_at at time zone 'UTC';

alter table staging.stg_customer_risk_score
alter column assessed_at type timestamptz using assessed_at at time zone 'UTC';

alter table analytics.dim_customers
alter column valid_from type timestamptz using valid_from at time zone 'UTC',
alter column valid_to type timestamptz using valid_to at time zone 'UTC';

alter table analytics.fct_orders
alter column delivered_at type timestamptz using delivered_at at time zone 'UTC';
