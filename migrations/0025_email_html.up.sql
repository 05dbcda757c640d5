-- E-mails carry an HTML part beside the plain text (issue 16).
ALTER TABLE emails ADD COLUMN html text;
