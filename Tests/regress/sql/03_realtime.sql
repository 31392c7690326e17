-- Read-your-writes: an interaction inserted a moment ago (in the same transaction) changes the
-- next recommend() and explain(), without retraining.
SELECT customer_id AS cold FROM shop.customers c
 WHERE NOT EXISTS (SELECT 1 FROM shop.events e WHERE e.customer_id = c.customer_id) ORDER BY 1 LIMIT 1 \gset
SELECT product_id AS p1 FROM shop.products WHERE category = 'Coffee & Tea' ORDER BY product_id LIMIT 1 \gset
BEGIN;
SELECT bool_and(source = 'popular') AS popular_before FROM recommend(:cold, 5, 0);
INSERT INTO shop.events (customer_id, product_id, event_type, occurred_at)
VALUES (:cold, :p1, 'purchase', now());
SELECT bool_and(source = 'model') AS personal_after, bool_and(item_id <> :p1) AS purchase_left_out
  FROM recommend(:cold, 5, 0);
SELECT item_id AS first_after FROM recommend(:cold, 1, 0) \gset
SELECT role, item_id = :p1 AS names_the_purchase, abs(share - 1) < 1e-9 AS whole_score
  FROM explain(:cold, :first_after) WHERE role = 'because';
ROLLBACK;
SELECT bool_and(source = 'popular') AS popular_again FROM recommend(:cold, 5, 0);
