import { writable, type Writable } from 'svelte/store';
import type { Socket } from 'socket.io-client';

export type SessionUser = {
	id: string;
	name: string;
	role: 'user' | 'admin';
	token: string;
};

export const WEBUI_NAME = writable('Open WebUI Mini');

export const user: Writable<SessionUser | undefined> = writable(undefined);
export const socket: Writable<null | Socket> = writable(null);
export const activeUserIds: Writable<null | string[]> = writable(null);
