DROP INDEX risk_list_items_newest_idx;
DROP INDEX risk_rules_newest_idx;
