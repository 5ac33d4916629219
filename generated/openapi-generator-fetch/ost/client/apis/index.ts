/* tslint:disable */
/* eslint-disable */
export * from './ReportsApi.js';
export * from './TransactionsApi.js';
export * from './UsersApi.js';
