-- table_relation: the published table's columns in attribute order, with their type and whether
-- each is in the primary key; grain attnum. Describes the snapshot's rows as a Relation does the log's.
-- sqlfluff:templater:placeholder:table_name:'public.customers'
select
    attribute.attname as column_name,
    attribute.atttypid::integer as type_oid,
    coalesce(attribute.attnum = any(pk.indkey), false) as is_key
from pg_attribute as attribute
left join pg_index as pk
    on
        attribute.attrelid = pk.indrelid
        and pk.indisprimary
where
    attribute.attrelid = %(table_name)s::regclass
    and attribute.attnum > 0
    and not attribute.attisdropped
order by attribute.attnum
