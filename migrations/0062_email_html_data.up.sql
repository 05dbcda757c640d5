-- A composed e-mail stores its HTML part's template and data (about
-- 300 bytes) instead of the rendered HTML (about 2.5 kB): the worker
-- renders it when it sends the e-mail, so deriving a payment's two
-- e-mails no longer renders, encodes and writes 5 kB that most rows
-- carry only until they are sent (issue 19). Rows written before keep
-- their html.
ALTER TABLE emails ADD COLUMN html_data json;
