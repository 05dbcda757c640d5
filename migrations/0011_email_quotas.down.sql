DROP TABLE email_quotas;
