"""Use cases behind ports (Clock, Store/UnitOfWork, EmailDelivery) and the SequenceEngine facade."""
