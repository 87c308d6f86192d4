"""The pure core: plain data (model, changeset, vocabulary), campaign knowledge (profile), the master
as data (master, roster), and the planners (plan, plan_tables, adoption, stages, logsheet). Nothing here
reads or writes a file."""
