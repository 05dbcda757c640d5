-- E-mails not sent yet lose their HTML part: they go out as plain text.
ALTER TABLE emails DROP COLUMN html_data;
