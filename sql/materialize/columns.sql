select * from model_rows
limit 0
