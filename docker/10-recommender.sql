-- Runs once, when the container initialises its database: the extension, the sample shop and a
-- trained model, so that `docker compose up` gives a ready database.
CREATE EXTENSION recommender;
SELECT recommender.create_sample_shop();
SELECT recommender.register('default', 'shop.events', 'customer_id', 'product_id',
         time_column => 'occurred_at', event_column => 'event_type',
         event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'shop.products', item_id_column => 'product_id',
         category_column => 'category', title_column => 'title');
SELECT * FROM recommender.train('default');
