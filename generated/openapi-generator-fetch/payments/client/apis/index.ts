/* tslint:disable */
/* eslint-disable */
export * from './DocumentsApi.js';
export * from './PaymentsApi.js';
export * from './RefundsApi.js';
