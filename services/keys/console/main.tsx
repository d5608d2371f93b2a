import { render } from "preact";
import { takeFragmentToken } from "./api";
import { App } from "./app";
import "./styles.css";

// Before anything renders: the token leaves the URL at once.
takeFragmentToken();
render(<App />, document.getElementById("app")!);
