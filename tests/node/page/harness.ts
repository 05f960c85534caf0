// What the page records for the test to read through `window.harness`.
export interface Entry {
	component: 'runes' | 'legacy';
	kind: 'callback' | 'dispatched' | 'error' | 'error-dispatched';
	room: string;
	value: unknown;
}
