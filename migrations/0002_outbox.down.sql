DROP TABLE emails;
DROP TABLE events;
