DROP TABLE link_sends;
