"""The five agency services of rehab and the eventing kernel they share."""
