-- Internal functions no role calls directly.
REVOKE EXECUTE ON FUNCTION recommender._stamp_registration() FROM PUBLIC;
