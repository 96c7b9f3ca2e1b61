-- ping: does the server still answer this kept connection?
select 1
