def test_token_then_introspect(http, factory):
    creds = factory.client(scopes=["jobs", "candidates"])
    response = http.post("/token", data={"grant_type": "client_credentials"}, headers=creds.basic)
    assert response.status_code == 200, response.json
    token = response.json["access_token"]
    spy = factory.introspector()
    result = http.post("/introspect", data={"token": token}, headers=spy.basic).json
    assert result["active"] is True
    assert result["scope"] == "candidates jobs"
