
-- Grants and revokes of the functions new in 0.4.0.
