-- By name, not position: every column the model returns must exist in the target.
insert into {target} ({columns})
select {columns} from model_rows
