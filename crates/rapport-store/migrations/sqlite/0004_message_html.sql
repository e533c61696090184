-- The message as the platform sent it, when that was HTML (a Mastodon status's
-- `content`, a blog comment): untrusted, kept for display after sanitising; `text` is
-- what rapport made of it.
ALTER TABLE messages ADD COLUMN html TEXT;
