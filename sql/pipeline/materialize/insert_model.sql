-- A window model never reads the slice it replaces, so its SELECT inserts straight: rows written once.
insert into {target} ({columns})
select {columns} from ({model}) as model_rows
