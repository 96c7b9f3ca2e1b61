-- by_key models replace every row of each key they return (e.g. all versions of a customer).
delete from {target} as existing
using (select distinct {key} from model_rows) as incoming
where existing.{key} = incoming.{key}
